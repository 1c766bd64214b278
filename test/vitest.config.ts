import { defineConfig } from 'vitest/config'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))

// Two projects: `unit` is pure (no database, no network); `integration` opens a real database —
// embedded PGlite by default, the server named by WARDEN_TEST_DATABASE_URL when CI sets it.
export default defineConfig({
  test: {
    root,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Tests share one Postgres database on the real server; run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
})
