import { configure } from '@testing-library/react';

// findBy*/waitFor give up after 1 s by default; on a CI box busy with the
// Python suite's servers and browsers, a first render can take longer. Never
// reached when things work.
configure({ asyncUtilTimeout: 5000 });
