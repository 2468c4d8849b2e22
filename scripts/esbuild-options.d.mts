import type { BuildOptions } from 'esbuild';
export declare const esmOptions: BuildOptions;
