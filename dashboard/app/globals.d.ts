/** Map tile URL template from the build (MAP_TILE_URL); empty: a plain background. */
declare const __MAP_TILE_URL__: string;
