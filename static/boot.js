/* Portail Famille: loaded synchronously in <head>, before the first paint.
 * It only tells the CSS that scripts run, so that the phone menu is drawn folded from the
 * start instead of folding once app.js (deferred) has run: no layout shift. */
document.documentElement.classList.add("js");
