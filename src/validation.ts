/**
 * zod helpers shared by every module that checks outside values: workflow input, messages, env,
 * price tables and definitions all describe their problems the same way.
 */
import type { z } from 'zod';

/** One line per problem, each naming the field (`limits.maxSteps: ...`). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}
