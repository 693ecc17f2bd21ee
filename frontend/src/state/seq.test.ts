import { describe, expect, it } from 'vitest';
import { fastForward, hasGap, judgeSeq, newTrack, recordSeq } from './seq';

describe('seq tracker', () => {
  it('treats the next seq as next and anything at or below the watermark as duplicate', () => {
    const t = newTrack(5);
    expect(judgeSeq(t, 6)).toBe('next');
    expect(judgeSeq(t, 5)).toBe('duplicate');
    expect(judgeSeq(t, 1)).toBe('duplicate');
  });

  it('advances the watermark one by one', () => {
    let t = newTrack(0);
    for (const s of [1, 2, 3]) t = recordSeq(t, s);
    expect(t).toEqual({ last: 3, ahead: [] });
  });

  it('keeps seqs past a hole as ahead and reports the gap', () => {
    let t = recordSeq(newTrack(5), 8);
    expect(t).toEqual({ last: 5, ahead: [8] });
    expect(hasGap(t)).toBe(true);
    expect(judgeSeq(t, 8)).toBe('duplicate');
    expect(judgeSeq(t, 7)).toBe('ahead');
    t = recordSeq(t, 7);
    expect(t).toEqual({ last: 5, ahead: [7, 8] });
  });

  it('closes the hole when the missing seq arrives', () => {
    let t = newTrack(5);
    t = recordSeq(t, 7);
    t = recordSeq(t, 8);
    t = recordSeq(t, 6);
    expect(t).toEqual({ last: 8, ahead: [] });
    expect(hasGap(t)).toBe(false);
  });

  it('ignores recording a duplicate', () => {
    const t = recordSeq(newTrack(5), 7);
    expect(recordSeq(t, 7)).toBe(t);
    expect(recordSeq(t, 3)).toBe(t);
  });

  it('fast-forwards over a refetched range and keeps later seqs', () => {
    let t = newTrack(5);
    t = recordSeq(t, 7);
    t = recordSeq(t, 12);
    t = fastForward(t, 10);
    expect(t).toEqual({ last: 10, ahead: [12] });
    t = fastForward(t, 11);
    expect(t).toEqual({ last: 12, ahead: [] });
  });

  it('never moves the watermark backwards', () => {
    expect(fastForward(newTrack(9), 4)).toEqual({ last: 9, ahead: [] });
  });
});
