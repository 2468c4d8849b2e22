/** The hub package's params (the member template does not depend on the organization id). */
export declare const HUB_PARAMS: { deployment: string; organizationId: string };
/** The service, stage and Region the hub template is packaged with. */
export declare const HUB_NAMES: { service: string; stage: string; region: string };
export declare const HEADER: string;
/** The text of infra/member.yml for a packaged hub template. */
export declare function memberYaml(hub: unknown): string;
