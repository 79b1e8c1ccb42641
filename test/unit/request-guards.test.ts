import { describe, expect, it } from 'vitest';
import { allowedHostNames, hostName } from '../../api/request-guards.js';

describe('Host names', () => {
  it('takes the name of a Host header with or without a port, IPv6 in brackets', () => {
    expect(['localhost', 'LocalHost:3000', '127.0.0.1:1', '[::1]', '[::1]:3000', 'a.example:80'].map(hostName)).toEqual(['localhost', 'localhost', '127.0.0.1', '[::1]', '[::1]', 'a.example']);
    expect(['', 'a:b:c', 'a b', '[::1', 'localhost:', 'localhost:123456'].map(hostName)).toEqual([null, null, null, null, null, null]);
  });
  it('answers the loopback names and the configured ones on loopback, any name elsewhere unless names are configured', () => {
    expect([...allowedHostNames({ bind: '127.0.0.1', allowedHosts: [] })!]).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(allowedHostNames({ bind: '127.0.0.5', allowedHosts: ['Api.Example'] })).toEqual(new Set(['localhost', '127.0.0.1', '[::1]', '127.0.0.5', 'api.example']));
    expect(allowedHostNames({ bind: '::1', allowedHosts: [] })!.has('[::1]')).toBe(true);
    expect(allowedHostNames({ bind: '0.0.0.0', allowedHosts: [] })).toBeNull();
    expect(allowedHostNames({ bind: '0.0.0.0', allowedHosts: ['api.example'] })!.has('api.example')).toBe(true);
  });
});
