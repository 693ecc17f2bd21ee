/** The small emoji set offered in the reaction picker. */
export const REACTION_EMOJI: readonly string[] = [
  '👍', '👎', '😄', '🎉', '❤️', '🚀', '👀', '✅', '❌', '🔥', '😕', '🙏', '💯', '🤔', '⚠️', '🐛',
];
