// The syntax tree: every node carries the span it came from, so diagnostics and
// the source map fall out of the tree. Types as written (TypeExpr) are resolved
// by the checker into Type.
import type { Span } from './diagnostics.js';

export interface TypeExpr {
  readonly name: string;
  /** `int[]`: an array of the named type. */
  readonly array: boolean;
  readonly at: Span;
}

export type Expr =
  | { readonly kind: 'int'; readonly value: number; readonly at: Span }
  | { readonly kind: 'bool'; readonly value: boolean; readonly at: Span }
  | { readonly kind: 'string'; readonly value: string; readonly at: Span }
  | { readonly kind: 'name'; readonly name: string; readonly at: Span }
  | { readonly kind: 'unary'; readonly op: string; readonly operand: Expr; readonly at: Span }
  | {
      readonly kind: 'binary';
      readonly op: string;
      readonly left: Expr;
      readonly right: Expr;
      readonly at: Span;
    }
  | { readonly kind: 'call'; readonly callee: string; readonly args: readonly Expr[]; readonly at: Span }
  | {
      readonly kind: 'method';
      readonly target: Expr;
      readonly name: string;
      readonly args: readonly Expr[];
      readonly at: Span;
    }
  | { readonly kind: 'index'; readonly target: Expr; readonly index: Expr; readonly at: Span }
  | { readonly kind: 'field'; readonly target: Expr; readonly name: string; readonly at: Span }
  | { readonly kind: 'list'; readonly items: readonly Expr[]; readonly at: Span }
  | {
      readonly kind: 'spawn';
      readonly domain: string;
      readonly args: readonly Expr[];
      readonly meter: Expr | undefined;
      readonly keeper: Expr | undefined;
      readonly at: Span;
    };

export type Stmt =
  | {
      readonly kind: 'var';
      readonly constant: boolean;
      readonly type: TypeExpr;
      readonly name: string;
      readonly init: Expr | undefined;
      readonly at: Span;
    }
  | { readonly kind: 'assign'; readonly target: Expr; readonly value: Expr; readonly at: Span }
  | { readonly kind: 'expr'; readonly expr: Expr; readonly at: Span }
  | {
      readonly kind: 'if';
      readonly cond: Expr;
      readonly body: readonly Stmt[];
      readonly otherwise: readonly Stmt[];
      readonly at: Span;
    }
  | { readonly kind: 'while'; readonly cond: Expr; readonly body: readonly Stmt[]; readonly at: Span }
  | {
      readonly kind: 'for';
      readonly name: string;
      readonly from: Expr;
      readonly to: Expr;
      readonly step: Expr | undefined;
      readonly body: readonly Stmt[];
      readonly at: Span;
    }
  | { readonly kind: 'return'; readonly value: Expr | undefined; readonly at: Span }
  | { readonly kind: 'print'; readonly args: readonly Expr[]; readonly at: Span }
  | { readonly kind: 'pass'; readonly at: Span };

export interface Param {
  readonly type: TypeExpr;
  readonly name: string;
  readonly at: Span;
}

export interface FuncDecl {
  readonly kind: 'def';
  readonly name: string;
  readonly params: readonly Param[];
  readonly result: TypeExpr | undefined;
  readonly body: readonly Stmt[];
  readonly at: Span;
}

export interface TypDecl {
  readonly kind: 'typ';
  readonly name: string;
  readonly fields: readonly Param[];
  readonly at: Span;
}

export interface DomainDecl {
  readonly kind: 'domain';
  readonly name: string;
  /** Keys the domain is made with (`spawn` hands them in). */
  readonly params: readonly Param[];
  readonly vars: readonly Stmt[];
  readonly functions: readonly FuncDecl[];
  readonly at: Span;
}

export interface ImportDecl {
  readonly kind: 'import';
  readonly path: string;
  readonly at: Span;
}

export type TopLevel = FuncDecl | TypDecl | DomainDecl | ImportDecl | Stmt;

export interface Module {
  readonly file: string;
  readonly items: readonly TopLevel[];
}
