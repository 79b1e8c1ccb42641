// The Temporal namespace of the running activity. Every Docker object an activity makes is labelled with it, so a
// test run sweeps exactly what its own workflows made.
import { Context } from '@temporalio/activity';

export function activityNamespace(): string {
  const info = Context.current().info;
  return info.workflowNamespace ?? info.namespace;
}
