/** The always-visible bar of active alerts with their Cancel (the alerts feature fills it). */
export function AlertBar() {
  return null;
}
