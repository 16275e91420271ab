// The source panel (gr.HTML js_on_load): after each new source, bring the quote into view.
watch('value', () => {
  const mark = element.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center', inline: 'nearest'});
});
