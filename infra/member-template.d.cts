/** The member stack (infra/member.yml) for a packaged hub template, with the hub's service, stage and Region. */
export declare function memberTemplate(hub: unknown, names: { service: string; stage: string; region: string }): Record<string, unknown>;
/** The name of the role the member's rules forward events with. */
export declare const FORWARD_ROLE: string;
