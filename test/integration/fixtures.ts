import { FIXTURE_IMAGE, writeProject } from './helpers.js';

/**
 * A small project in the shape users have: a web service publishing a host port, a database-like
 * service with a named volume and a healthcheck, and a dependency between them.
 */
export function webDbProject(extra: Record<string, string> = {}): string {
  return writeProject({
    'compose.yaml': `services:
  web:
    image: ${FIXTURE_IMAGE}
    init: true
    command: ["sh", "-c", "mkdir -p /www && echo hello-$$HOSTNAME > /www/index.html && httpd -f -p 8080 -h /www"]
    ports: ["8080:8080"]
    depends_on:
      db:
        condition: service_healthy
  db:
    image: ${FIXTURE_IMAGE}
    init: true
    command: ["sh", "-c", "touch /data/ready && sleep 3600"]
    volumes: ["data:/data"]
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 1s
      timeout: 2s
      retries: 20
volumes:
  data: {}
`,
    'src/app.sh': '#!/bin/sh\necho app\n',
    ...extra,
  });
}
