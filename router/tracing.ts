/**
 * The router's part of a trace: a CLIENT span per subgraph fetch of a query plan, active while the
 * fetch runs so that its `traceparent` header names it as the subgraph request's parent.
 */
import type { GatewayPlugin } from '@graphql-hive/gateway-runtime';
import { endSpan, runInContext, startClientSpan, traceHeaders } from '../lib';

export function useTracing(): GatewayPlugin {
  return {
    onSubgraphExecute({ subgraphName, executor, setExecutor }) {
      const { span, context } = startClientSpan(`subgraph ${subgraphName}`, {
        'agentry.subgraph': subgraphName,
      });
      setExecutor((request) => runInContext(context, () => executor(request)));
      return () => endSpan(span);
    },
    onFetch({ options, setOptions }) {
      const traced = Object.entries(traceHeaders());
      if (!traced.length) return;
      const headers = new Headers(options.headers as HeadersInit);
      for (const [name, value] of traced) headers.set(name, value);
      setOptions({ ...options, headers: Object.fromEntries(headers) });
    },
  };
}
