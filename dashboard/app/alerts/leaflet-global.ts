import L from 'leaflet';

// Leaflet-Geoman is a script that extends the global `L`: it must exist before it loads
// (imported first by draw-tools.ts, so ES module order guarantees it).
(window as unknown as { L: typeof L }).L = L;
