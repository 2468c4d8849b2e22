import type { Plugin } from 'esbuild';
declare const plugins: Plugin[] & { pureSchemas: Plugin; lambdaCredentials: Plugin };
export = plugins;
