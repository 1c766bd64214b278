#!/usr/bin/env node
// Launcher so `warden …` (npm link / npx) runs the TypeScript sources without a build step.
import { register } from 'tsx/esm/api'
register()
await import('./main.ts')
