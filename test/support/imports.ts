/**
 * The project's own import graph, read with the TypeScript parser: which project files a file
 * imports, and whether only for types (erased at compile time).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export const REPO = join(__dirname, '..', '..');

export interface ProjectImport {
  /** Repo-relative path of the imported file. */
  target: string;
  typeOnly: boolean;
}

function isTypeOnly(statement: ts.ImportDeclaration): boolean {
  const clause = statement.importClause;
  if (!clause) return false;
  if (clause.isTypeOnly) return true;
  const bindings = clause.namedBindings;
  return (
    !clause.name &&
    bindings !== undefined &&
    ts.isNamedImports(bindings) &&
    bindings.elements.length > 0 &&
    bindings.elements.every((element) => element.isTypeOnly)
  );
}

/** The project files `file` (repo-relative) imports or re-exports. */
export function projectImports(file: string): ProjectImport[] {
  const absolute = join(REPO, file);
  const source = ts.createSourceFile(absolute, readFileSync(absolute, 'utf8'), ts.ScriptTarget.ES2022);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      found.push({ specifier: (statement.moduleSpecifier as ts.StringLiteral).text, typeOnly: isTypeOnly(statement) });
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier) {
      found.push({ specifier: (statement.moduleSpecifier as ts.StringLiteral).text, typeOnly: statement.isTypeOnly });
    }
  }
  return found
    .filter(({ specifier }) => specifier.startsWith('.'))
    .map(({ specifier, typeOnly }) => {
      const base = resolve(dirname(absolute), specifier);
      const target = [`${base}.ts`, join(base, 'index.ts'), base].find((candidate) => ts.sys.fileExists(candidate));
      if (!target) throw new Error(`${file}: cannot resolve ${specifier}`);
      return { target: relative(REPO, target), typeOnly };
    });
}

/** Every project file reachable from `entry` through imports that survive compilation. */
export function runtimeClosure(entry: string): string[] {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    pending.push(
      ...projectImports(file)
        .filter((edge) => !edge.typeOnly)
        .map((edge) => edge.target),
    );
  }
  return [...seen].sort();
}
