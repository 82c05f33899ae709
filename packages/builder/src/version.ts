/** The version and the Dockerfile syntax level this build of tsbuild implements. */
export const VERSION = '0.1.0';
export const SYNTAX_LEVEL = 'docker/dockerfile:1.4 (heredocs, COPY --link and --chmod, RUN --network; not yet: RUN --mount, ADD <url>, COPY --parents/--exclude)';
