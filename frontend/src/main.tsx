/**
 * The page's entry, kept to a few kilobytes: it starts the first API requests
 * (net/prefetch.ts), then loads the app. On a busy two-core machine the app's
 * bundle takes 100-250 ms to arrive, parse and run; the server answers meanwhile.
 */
import { readCookie } from './net/cookies';
import { startPrefetch } from './net/prefetch';
import './ui/styles.css';

startPrefetch(window.location.hash, readCookie(document.cookie, 'csrftoken') != null);
void import('./start');
