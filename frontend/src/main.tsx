/**
 * The page's entry, kept to a few kilobytes: it starts the first API requests
 * (net/prefetch.ts), then loads the app. On a busy two-core machine the app's
 * bundle takes 100-250 ms to arrive, parse and run; the server answers meanwhile.
 */
import { readCookie } from './net/cookies';
import { startPrefetch } from './net/prefetch';
import './ui/styles.css';

startPrefetch(window.location.hash, readCookie(document.cookie, 'csrftoken') != null);
import('./start').catch(() => {
  // The app's file did not arrive (the server restarted with a new build, or
  // the network dropped): say so instead of a blank page.
  const root = document.getElementById('root');
  if (root) {
    root.setAttribute('role', 'alert');
    root.textContent = 'Cannot load the chat. Reload the page to try again.';
  }
});
