async (text) => {
  // 复制引用: the hidden textbox holds the answer with its references (export.answer_with_references).
  const toast = window.__replyqaToast || (() => {});
  if (!text) { toast('还没有可复制的答案'); return; }
  try {
    await navigator.clipboard.writeText(text);
  } catch (err) {
    // Without a secure context (http on another host) the async clipboard is missing.
    const area = document.createElement('textarea');
    area.value = text;
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  toast('已复制答案和引用');
}
