import { editDistance, namesOf, nearestName, unknownNames } from '../../src/suggest';

describe('editDistance', () => {
  it.each<[string, string, number]>([
    ['timeout', 'timeout', 0],
    ['TimeOut', 'timeout', 0],
    ['requireApproval', 'requiresApproval', 1],
    ['nmae', 'name', 1],
    ['tols', 'tools', 1],
    ['retries', 'retry', 3],
    ['', 'model', 5],
    ['abc', 'xyz', 3],
  ])('from %j to %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('nearestName', () => {
  const toolOptions = ['name', 'description', 'requiresApproval', 'timeout', 'heartbeatTimeout', 'retry'];

  it.each<[string, string]>([
    ['requireApproval', 'requiresApproval'],
    ['RequiresApproval', 'requiresApproval'],
    ['desciption', 'description'],
    ['nmae', 'name'],
    ['timout', 'timeout'],
    ['heartbeat', 'heartbeatTimeout'],
    ['desc', 'description'],
  ])('suggests for %j: %j', (typed, meant) => {
    expect(nearestName(typed, toolOptions)).toBe(meant);
  });

  it('prefers the nearest of several close names', () => {
    expect(nearestName('maxStep', ['maxTokens', 'maxSteps'])).toBe('maxSteps');
  });

  it.each(['colour', 'summary', 'x', 'model', 'tim'])('suggests nothing for the unrelated or too short %j', (typed) => {
    expect(nearestName(typed, toolOptions)).toBeUndefined();
  });
});

describe('unknownNames', () => {
  const known = ['tools', 'timeoutSeconds'];

  it('is undefined when every key is known', () => {
    expect(unknownNames({ tools: [], timeoutSeconds: 5 }, known, 'option')).toBeUndefined();
  });

  it('names each unknown key in one line, with a suggestion where one is close', () => {
    expect(unknownNames({ tool: [], timeoutsecond: 5 }, known, 'approval option')).toBe(
      'unknown approval option "tool" (did you mean "tools"?); unknown approval option "timeoutsecond" (did you mean "timeoutSeconds"?)',
    );
  });

  it('lists the known names when a key is near none of them', () => {
    expect(unknownNames({ tool: [], colour: 'red', timeoutSeconds: 5 }, known, 'approval option')).toBe(
      'unknown approval option "tool" (did you mean "tools"?); unknown approval option "colour"; known approval options: tools, timeoutSeconds',
    );
  });

  it.each([undefined, null, 5, 'tools', ['tools']])('leaves %j, not a plain object, to its type check', (value) => {
    expect(unknownNames(value, known, 'option')).toBeUndefined();
  });
});

describe('namesOf', () => {
  it('lists the keys it is given', () => {
    expect(namesOf<{ a: number; b?: string }>({ a: true, b: true })).toEqual(['a', 'b']);
  });

  it('does not compile with a key missing or one the type lacks', () => {
    // @ts-expect-error `b` is missing: the list would drift from the type.
    expect(namesOf<{ a: number; b?: string }>({ a: true })).toEqual(['a']);
    // @ts-expect-error `c` is not a key of the type.
    expect(namesOf<{ a: number }>({ a: true, c: true })).toEqual(['a', 'c']);
  });
});
