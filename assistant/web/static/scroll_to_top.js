// The letter reader (gr.HTML js_on_load): a newly opened letter starts at its top.
watch('value', () => {
  const body = element.querySelector('.rq-reader-body');
  if (body) body.scrollTop = 0;
});
