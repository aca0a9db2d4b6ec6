// What a context source's answer to a distributed read contributes (GS CIM 009 §6.3.17; guide §16.3): the
// JSON of a 2xx answer, nothing for a 404 ("nothing here", no warning), or the NGSILD-Warning that replaces
// it — 299 when the source failed or answered an error status, 111 when its payload was unusable. Pure.
import type { JsonValue } from '../core/json.ts';
import type { ForwardOutcome } from '../ports/forwarder.ts';
import type { SourcePlan } from '../core/federation/plan.ts';
import type { SourceWarning, WarningCode } from '../core/federation/warning.ts';
import type { RemoteRead } from '../core/federation/remote-entity.ts';

export interface SourceBody {
  status: number;
  body: JsonValue | undefined;
  headers: Record<string, string>;
}

export const sourceWarning = (plan: SourcePlan, code: WarningCode, reason: string): SourceWarning => ({ code, registrationId: plan.view.id, endpoint: plan.endpoint, reason });

export function answerOf(plan: SourcePlan, outcome: ForwardOutcome): SourceBody | SourceWarning | null {
  if (outcome.kind === 'failed') return sourceWarning(plan, 299, outcome.reason);
  if (outcome.kind === 'unusable') return sourceWarning(plan, 111, outcome.reason);
  if (outcome.status === 404) return null;
  if (outcome.status < 200 || outcome.status >= 300) return sourceWarning(plan, 299, `answered HTTP ${outcome.status}`);
  return { status: outcome.status, body: outcome.body, headers: outcome.headers };
}

/**
 * The sources' answers read in plan order: `read` turns a usable answer's body into a value (or says why it
 * cannot), `use` takes each value; the warnings of the sources that failed, answered an error or sent an
 * unusable payload are returned, in plan order. A 404 contributes nothing.
 */
export function readAnswers<T>(
  plans: readonly SourcePlan[],
  outcomes: readonly ForwardOutcome[],
  read: (answer: SourceBody, plan: SourcePlan) => RemoteRead<T>,
  use: (value: T, plan: SourcePlan, answer: SourceBody) => void,
): SourceWarning[] {
  const warnings: SourceWarning[] = [];
  plans.forEach((plan, i) => {
    const a = answerOf(plan, outcomes[i]!);
    if (a === null) return;
    if ('code' in a) return void warnings.push(a);
    const r = read(a, plan);
    if (!r.ok) return void warnings.push(sourceWarning(plan, 111, r.reason));
    use(r.value, plan, a);
  });
  return warnings;
}
