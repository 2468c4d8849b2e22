import type { Plugin } from 'esbuild';
declare const plugins: Plugin[] & { pureSchemas: Plugin };
export = plugins;
