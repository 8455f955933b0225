/** The base map's tile URL template (MAP_TILE_URL at build time); empty for a plain background. */
export const MAP_TILE_URL: string = __MAP_TILE_URL__;
