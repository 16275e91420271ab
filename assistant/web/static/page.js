() => {
  if (window.__replyqa) return;
  window.__replyqa = true;
  // The placeholder below becomes page.css, as a JSON string, when the page is built (assets.page_js).
  const style = document.createElement('style');
  style.id = 'replyqa-style';
  style.textContent = __CSS__;
  document.head.appendChild(style);
  // A click becomes the value of a hidden textbox; its change event asks the server. The
  // timestamp makes every click a change, so clicking the same marker twice works too.
  const send = (boxId, value) => {
    const box = document.querySelector('#' + boxId + ' textarea');
    if (!box) return;
    box.value = value + '|' + Date.now();
    box.dispatchEvent(new Event('input', {bubbles: true}));
  };
  const act = (target) => {
    const cite = target.closest('.rq-cite');
    if (cite) {
      const m = /(?:^|\s)rq-k-(\d+)-(\d+)(?:\s|$)/.exec(cite.className);
      if (m) { send('rq-cite-key', m[1] + ':' + m[2]); return true; }
    }
    const row = target.closest('[data-rq-letter]');
    if (row) { send('rq-letter-key', row.getAttribute('data-rq-letter')); return true; }
    const jump = target.closest('[data-rq-jump]');
    if (jump) {
      const dest = document.getElementById(jump.getAttribute('data-rq-jump'));
      if (dest) dest.scrollIntoView({block: 'start'});
      return true;
    }
    return false;
  };
  document.addEventListener('click', (ev) => {
    if (ev.target instanceof Element && act(ev.target)) ev.preventDefault();
  }, true);
  document.addEventListener('keydown', (ev) => {
    if ((ev.key === 'Enter' || ev.key === ' ') && ev.target instanceof Element
        && ev.target.matches('.rq-cite, [data-rq-letter], [data-rq-jump]') && act(ev.target)) {
      ev.preventDefault();
    }
  }, true);
  window.__replyqaToast = (message) => {
    const toast = document.createElement('div');
    toast.className = 'rq-toast';
    toast.setAttribute('role', 'status');
    toast.textContent = message;
    document.body.appendChild(toast);
    setTimeout(() => toast.remove(), 1800);
  };
}
