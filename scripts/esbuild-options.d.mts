import type { BuildOptions } from 'esbuild';
export declare const esmOptions: BuildOptions;
/** esmOptions plus the Lambda credential chain: what every function bundle is built with. */
export declare const functionOptions: BuildOptions;
