/**
 * The Lua scripts follow their convention: one command per file named
 * `<command>-<numberOfKeys>.ts`, whose header documents exactly KEYS[1..n] and its ARGV.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { LuaScript } from '../src/scripts/script.js';

const dir = fileURLToPath(new URL('../src/scripts/', import.meta.url));
const files = readdirSync(dir).filter((file) => /^[a-z]+-\d+\.ts$/.test(file));

describe('Lua scripts', () => {
  it('exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  it.each(files)(
    '%s is named after its command and key count, and documents them',
    async (file) => {
      // The file is known only at run time, so the bundler is told not to resolve it.
      const url = new URL(`../src/scripts/${file}`, import.meta.url).href;
      const module = (await import(/* @vite-ignore */ url)) as Record<string, LuaScript>;
      const scripts = Object.values(module);
      expect(scripts).toHaveLength(1);
      const script = scripts[0] as LuaScript;
      const [, command, keys] = file.match(/^([a-z]+)-(\d+)\.ts$/) ?? [];
      expect(script.name).toBe(command);
      expect(script.numberOfKeys).toBe(Number(keys));
      const header = script.lua.slice(0, script.lua.indexOf(']]'));
      expect(header.startsWith(`--[[ ${command}:`)).toBe(true);
      const documented = [...header.matchAll(/^\s+KEYS\[(\d+)\]/gm)].map((m) => Number(m[1]));
      expect(documented).toEqual(Array.from({ length: script.numberOfKeys }, (_, i) => i + 1));
      if (script.numberOfKeys === 0) expect(header).toMatch(/No KEYS/);
      expect(header).toMatch(/ARGV\[1\]/);
      expect(header).toMatch(/Returns/);
    },
  );
});
