/** Shared tsup settings: every published package spreads this and names its entries. */
export const base = {
  format: ['esm'],
  target: 'node22',
  dts: true,
  sourcemap: true,
  clean: true,
  splitting: false,
};
