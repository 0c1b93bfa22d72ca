// Refreshes the page's live region (#live) every few seconds from the same URL with ?fragment=1, without a full reload.
// Pauses while the tab is hidden; a 401 (the session ended) sends the browser to the login page.
(() => {
  const live = document.getElementById('live');
  if (!live) return;
  const every = Number(live.dataset.refresh) || 3000;
  let timer;

  async function refresh() {
    clearTimeout(timer);
    if (document.hidden) return;
    try {
      const url = new URL(location.href);
      url.searchParams.set('fragment', '1');
      const res = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
      if (res.status === 401) {
        location.assign('/login?next=' + encodeURIComponent(location.pathname + location.search));
        return;
      }
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      // The fragment is HTML rendered by this server with every value escaped.
      live.innerHTML = await res.text();
      document.body.classList.remove('stale');
      live.dataset.refreshedAt = String(Date.now());
    } catch {
      document.body.classList.add('stale');
    }
    timer = setTimeout(refresh, every);
  }

  document.addEventListener('visibilitychange', () => { if (!document.hidden) refresh(); });
  timer = setTimeout(refresh, every);
})();
