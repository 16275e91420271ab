// The letter reader (gr.HTML js_on_load). Each newly opened letter starts at its top — or, when
// it was opened from a citation, at the quote (mark#rq-reader-mark), centred in the reader —
// and the reader itself is brought into view: on a phone it sits far below the list. A letter
// opened from the chat arrives while its tab is still being shown — the first time, the reader
// is only mounted with it — so this runs at mount too, and waits (a few frames) until the
// reader is laid out before scrolling.
const show = () => {
  let frames = 0;
  const place = () => {
    const body = element.querySelector('.rq-reader-body');
    if (!body || !element.querySelector('[data-rq-letter-open]')) return;
    if (!body.offsetParent || body.clientHeight === 0) {
      if (frames++ < 120) requestAnimationFrame(place);
      return;
    }
    const mark = element.querySelector('#rq-reader-mark');
    if (mark) {
      mark.scrollIntoView({block: 'center', inline: 'nearest'});  // in the reader, and the reader in the page
    } else {
      body.scrollTop = 0;
      const top = element.getBoundingClientRect().top;
      if (top < 0 || top > window.innerHeight * 0.6) element.scrollIntoView({block: 'start'});
    }
  };
  requestAnimationFrame(place);
};
show();
watch('value', show);
