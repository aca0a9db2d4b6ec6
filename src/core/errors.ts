// The NGSI-LD error catalogue (GS CIM 009 §5.5.2, §6.3.2): each problem type once, with its HTTP status.
export const ERROR_TYPE_BASE = 'https://uri.etsi.org/ngsi-ld/errors/';

export const PROBLEM_STATUS = {
  InvalidRequest: 400,
  BadRequestData: 400,
  AlreadyExists: 409,
  Conflict: 409,
  OperationNotSupported: 422,
  ResourceNotFound: 404,
  NonexistentTenant: 404,
  NoMultiTenantSupport: 501,
  TooComplexQuery: 403,
  TooManyResults: 403,
  LdContextNotAvailable: 504,
  // A forwarded request came back to this broker and only a remote source could serve it (§6.3.17, §6.3.18).
  LoopDetected: 508,
  InternalError: 500,
} as const;

export type ProblemKind = keyof typeof PROBLEM_STATUS;

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
}

const DEFAULT_TITLES: Record<ProblemKind, string> = {
  InvalidRequest: 'Invalid request',
  BadRequestData: 'Bad request data',
  AlreadyExists: 'Already exists',
  Conflict: 'Conflict',
  OperationNotSupported: 'Operation not supported',
  ResourceNotFound: 'Resource not found',
  NonexistentTenant: 'Nonexistent tenant',
  NoMultiTenantSupport: 'No multi-tenant support',
  TooComplexQuery: 'Too complex query',
  TooManyResults: 'Too many results',
  LdContextNotAvailable: 'JSON-LD @context not available',
  LoopDetected: 'Loop detected',
  InternalError: 'Internal error',
};

/** An error that maps to one NGSI-LD ProblemDetails; the only error type services throw on purpose. */
export class NgsiError extends Error {
  readonly kind: ProblemKind;
  readonly title: string;
  readonly detail: string;
  /** Overrides the catalogue status for the few HTTP-level cases (413) that reuse a problem type. */
  readonly status: number;

  constructor(kind: ProblemKind, detail: string, title?: string, status?: number) {
    super(detail);
    this.name = 'NgsiError';
    this.kind = kind;
    this.title = title ?? DEFAULT_TITLES[kind];
    this.detail = detail === this.title ? `${detail}.` : detail;
    this.status = status ?? PROBLEM_STATUS[kind];
  }

  toProblem(): ProblemDetails {
    return { type: ERROR_TYPE_BASE + this.kind, title: this.title, status: this.status, detail: this.detail };
  }
}

export const invalidRequest = (detail: string, title?: string): NgsiError =>
  new NgsiError('InvalidRequest', detail, title);
export const badRequestData = (detail: string, title?: string): NgsiError =>
  new NgsiError('BadRequestData', detail, title);
export const notFound = (detail: string, title?: string): NgsiError =>
  new NgsiError('ResourceNotFound', detail, title);
export const alreadyExists = (detail: string, title?: string): NgsiError =>
  new NgsiError('AlreadyExists', detail, title);
