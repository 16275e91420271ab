() => {
  if (window.__replyqa) return;
  window.__replyqa = true;
  // __CSS__ becomes page.css and __ACCEPT__ the upload types, as JSON strings, when the page is
  // built (assets.page_js).
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
  // In the chat only class names survive the sanitizer (see render.py): rq-k-T-N a marker,
  // rq-oc-T-N 查看全文 of a citation, rq-ol-T-I of a lead, rq-e-T 在全部答复中再问.
  const keyed = (el, pattern) => { const m = pattern.exec(el.className); return m; };
  const act = (target) => {
    const cite = target.closest('.rq-cite');
    if (cite) {
      const m = keyed(cite, /(?:^|\s)rq-k-(\d+)-(\d+)(?:\s|$)/);
      if (m) { send('rq-cite-key', m[1] + ':' + m[2]); return true; }
    }
    const open = target.closest('.rq-open');
    if (open) {
      const c = keyed(open, /(?:^|\s)rq-oc-(\d+)-(\d+)(?:\s|$)/);
      const l = keyed(open, /(?:^|\s)rq-ol-(\d+)-(\d+)(?:\s|$)/);
      if (c) { send('rq-open-key', 'c:' + c[1] + ':' + c[2]); return true; }
      if (l) { send('rq-open-key', 'l:' + l[1] + ':' + l[2]); return true; }
    }
    const again = target.closest('.rq-everywhere');
    if (again) {
      const m = keyed(again, /(?:^|\s)rq-e-(\d+)(?:\s|$)/);
      if (m) { send('rq-retry-key', m[1]); return true; }
    }
    const opener = target.closest('[data-rq-open]');
    if (opener) { send('rq-open-key', opener.getAttribute('data-rq-open')); return true; }
    const chip = target.closest('[data-rq-scope]');
    if (chip) { send('rq-scope-key', chip.getAttribute('data-rq-scope')); return true; }
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
  const clickable = '.rq-cite, .rq-open, .rq-everywhere, [data-rq-open], [data-rq-scope], [data-rq-letter], [data-rq-jump]';
  document.addEventListener('click', (ev) => {
    if (ev.target instanceof Element && act(ev.target)) ev.preventDefault();
  }, true);
  document.addEventListener('keydown', (ev) => {
    if ((ev.key === 'Enter' || ev.key === ' ') && ev.target instanceof Element
        && ev.target.matches(clickable) && act(ev.target)) {
      ev.preventDefault();
    }
  }, true);
  // A typed part of a name (交通) means the same by Enter as by Tab: the words typed, matched
  // as part of every name. Gradio's dropdown would take Enter as "pick the first option that
  // contains it" (交通局) and keep its list open over the question box. An option picked with
  // the arrow keys or the mouse is still picked.
  const FACETS = '#rq-f-issuer, #rq-b-issuer';
  let navigated = false;
  document.addEventListener('input', (ev) => {
    if (ev.target instanceof Element && ev.target.closest(FACETS)) navigated = false;
  }, true);
  document.addEventListener('keydown', (ev) => {
    if (!(ev.target instanceof HTMLInputElement) || !ev.target.closest(FACETS)) return;
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') { navigated = true; return; }
    if (navigated) return;
    if (ev.key === 'Tab') {
      // Gradio takes Tab for typing and opens the list again, over whatever lies below, while
      // the focus moves on: keep Tab from it (the focus still moves) and close the list.
      ev.stopImmediatePropagation();
      ev.target.blur();
      return;
    }
    if (ev.key !== 'Enter') return;
    ev.preventDefault();
    ev.stopImmediatePropagation();
    ev.target.blur();
  }, true);
  // Gradio's own words, said in Chinese: toast titles are its message types written out, some
  // labels are translation keys its zh-CN table lacks, and its upload and status texts are
  // English. Only whole texts of Gradio's own elements are replaced (never a letter's words:
  // those live in .rq-* panels, which are skipped).
  const TEXTS = new Map([
    ['Warning', '提示'], ['Error', '错误'], ['Info', '消息'], ['Success', '成功'],
    ['common.complete', '完成'], ['common.upload', '上传'], ['common.progress', '进度'], ['common.error', '错误'],
    ['common.loading', '加载中'], ['common.clear', '清除'], ['common.download', '下载'], ['common.remove', '移除'],
    ['Loading...', '加载中…'], ['An error occurred.', '出错了。'], ['Clear', '清除'], ['from cache', '来自缓存'],
    ['Close', '关闭'], ['chatbot conversation', '对话记录'], ['Click to upload or drop files', '点击上传或拖放文件'],
    ['Textbox', '文本框'], ['Dropdown', '下拉菜单'], ['Copy', '复制'], ['Copied', '已复制'], ['Download', '下载'],
    ['Upload file', '上传文件'], ['Drop File Here', '将文件拖放到此处'], ['Click to Upload', '点击上传'],
    ['Remove', '移除'], ['Retry', '重试'], ['Undo', '撤销'], ['Clear', '清除'], ['Share', '分享'],
    ['Edit', '编辑'], ['Like', '赞'], ['Dislike', '踩'], ['Scroll down', '滚动到底部'], ['Select', '选择'],
    ['Number of files', '文件数'], ['File', '文件'], ['Files', '文件'], ['More tabs', '更多标签页'],
    ['More', '更多'], ['Menu', '菜单'], ['Toggle menu', '展开菜单'], ['Expand', '展开'], ['Collapse', '收起'],
    ['File upload', '上传文件'], ['Upload a file', '上传文件'], ['Uploaded files', '已上传的文件'],
    ['Uploading', '正在上传'], ['Remove file', '移除文件'], ['Remove this file', '移除此文件'],
    ['File thumbnail', '文件缩略图'], ['Loading response', '正在回答'], ['Loading Progress', '加载进度'],
    ['Open in new tab', '在新标签页中打开'], ['Dismiss', '关闭'], ['Submit', '提交'], ['Stop', '停止'],
    ['View full screen', '全屏查看'], ['Close full screen', '退出全屏'], ['Empty value', '空'],
    ['Scroll to bottom', '滚动到底部'], ['Example attachments', '示例附件'], ['Paste from clipboard', '从剪贴板粘贴'],
  ]);
  const PATTERNS = [
    [/^File\(s\) exceed the maximum allowed size of\s*([^:]+?):?\s*(.*)$/, (m) => `文件超过允许的最大大小 ${m[1]}：${m[2]}`],
    [/^Invalid file types?:?\s*(.*?)\.?\s*Only\s+(.*?)\s+allowed\.?$/, (m) => `不支持的文件类型：${m[1]}。仅支持 ${m[2]}。`],
    [/^Uploading\s+(\d+)\s+files?\.*$/, (m) => `正在上传 ${m[1]} 个文件…`],
    [/^processing\s*\|?\s*(.*)$/, (m) => `处理中 ${m[1]}`.trim()],
    [/^queue:\s*(.*)$/, (m) => `排队中：${m[1]}`],
    [/^In queue:\s*(\d+)\s*of\s*(\d+)$/, (m) => `排队中：第 ${m[1]} 位，共 ${m[2]} 位`],
    [/^Connection errored out\.?\s*(.*)$/, (m) => `连接中断。${m[1]}`],
    [/^(\d+(?:\.\d+)?)s$/, (m) => `${m[1]} 秒`],
    [/^(\d+(?:\.\d+)?)\/(\d+(?:\.\d+)?)s$/, (m) => `${m[1]}/${m[2]} 秒`],
    [/^(.*?)(\d+)\/(\d+) steps$/, (m) => `${m[1]}${m[2]}/${m[3]} 步`],
  ];
  const OURS = '.rq-answer, .rq-question, .rq-src, .rq-reader, .rq-letters, .rq-hittest, .rq-ingest';
  const say = (text) => {
    const t = text.trim();
    if (!t || !/[A-Za-z]/.test(t)) return null;
    if (TEXTS.has(t)) return TEXTS.get(t);
    for (const [pattern, make] of PATTERNS) { const m = pattern.exec(t); if (m) return make(m); }
    return null;
  };
  const ATTRS = ['aria-label', 'title', 'placeholder', 'alt'];
  const fix = (root) => {
    const el = root.nodeType === Node.TEXT_NODE ? root.parentElement : root;
    if (!(el instanceof Element) || el.closest(OURS)) return;
    if (root.nodeType === Node.TEXT_NODE) {
      const said = say(root.textContent);
      if (said !== null) root.textContent = said;
      return;
    }
    if (!(root instanceof Element)) return;
    for (const node of [root, ...root.querySelectorAll('*')]) {
      if (node.closest(OURS)) continue;
      for (const attr of ATTRS) {
        const value = node.getAttribute(attr);
        // A chat message is named "bot's message: <its raw HTML>": a screen reader would read
        // the markup out. Named instead by who speaks and what the message says.
        const message = value && /^(bot|user)'s message:/.exec(value);
        if (message) {
          const who = message[1] === 'bot' ? '助手的回答：' : '你的提问：';
          node.setAttribute(attr, who + (node.innerText || '').replace(/\s+/g, ' ').trim().slice(0, 300));
          continue;
        }
        const said = value && say(value);
        if (said) node.setAttribute(attr, said);
      }
      for (const child of node.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) {
          const said = say(child.textContent);
          if (said !== null) child.textContent = said;
        }
      }
    }
  };
  fix(document.body);
  new MutationObserver((changes) => {
    for (const change of changes) {
      if (change.type === 'attributes' || change.type === 'characterData') fix(change.target);
      else change.addedNodes.forEach(fix);
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true,
                             attributeFilter: ATTRS});
  // The file picker offers only the types the import takes (the types are checked on the
  // server, which says in Chinese why a file was refused).
  const types = __ACCEPT__;
  const accept = () => document.querySelectorAll('#rq-upload input[type="file"]').forEach((input) => {
    if (input.getAttribute('accept') !== types) input.setAttribute('accept', types);
  });
  accept();
  new MutationObserver(accept).observe(document.body, {subtree: true, childList: true});
  document.documentElement.setAttribute('lang', 'zh-CN');
  window.__replyqaToast = (message) => {
    const toast = document.createElement('div');
    toast.className = 'rq-toast';
    toast.setAttribute('role', 'status');
    toast.textContent = message;
    document.body.appendChild(toast);
    setTimeout(() => toast.remove(), 1800);
  };
}
