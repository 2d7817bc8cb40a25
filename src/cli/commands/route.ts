import { parseRouteRequest } from '../../core/router/request.js';
import { route } from '../../core/router/route.js';
import { EXIT, parseJson, printJson, readInput, UsageError, io } from '../io.js';
import { resolvePolicy } from '../policyFile.js';

export interface RouteOptions {
  policy?: string;
  request?: string;
  localOnly?: boolean;
}

export function routeCommand(o: RouteOptions): number {
  const { policy, warnings } = resolvePolicy(o.policy);
  for (const w of warnings) io().stderr.write(`warning: ${w.field}: ${w.message}\n`);
  const raw = parseJson(readInput(o.request ?? '-', '--request'), '--request');
  const parsed = parseRouteRequest(raw);
  if (!parsed.ok) throw new UsageError(parsed.errors.map((e) => `${e.field}: ${e.reason}`).join('\n'));
  const decision = route(parsed.request, policy, { local_only_setting: o.localOnly === true });
  printJson(decision);
  if (decision.refused) io().stderr.write(`${decision.audit}\n`);
  return decision.refused ? EXIT.refused : EXIT.ok;
}
