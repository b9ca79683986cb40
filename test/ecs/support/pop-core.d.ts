/** Types for @alicloud/pop-core 1.8.0, which ships none: only what the ECS tests and benchmark use. */
declare module '@alicloud/pop-core' {
  export interface RPCClientConfig {
    accessKeyId: string;
    accessKeySecret: string;
    endpoint: string;
    apiVersion: string;
    codes?: Array<string | number>;
    opts?: Record<string, unknown>;
  }
  export interface RPCRequestOptions {
    method?: 'GET' | 'POST';
    timeout?: number;
    formatAction?: boolean;
    formatParams?: boolean;
  }
  export class RPCClient {
    constructor(config: RPCClientConfig, verbose?: boolean);
    request<T = Record<string, any>>(
      action: string,
      params?: Record<string, unknown>,
      options?: RPCRequestOptions,
    ): Promise<T>;
  }
  const PopCore: typeof RPCClient & { RPCClient: typeof RPCClient };
  export default PopCore;
}
