// The gpiod GPIO lives in sysfs-gpio.ts (the name the design gave it); this name is kept
// for the modules that import it from here.
export { GpiodGpio, type GpiodGpioOptions } from './sysfs-gpio.js';
