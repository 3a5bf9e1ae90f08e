// Keep the newest message in view, and ask before wiping the demo.
document.addEventListener('DOMContentLoaded',function(){
  var chat=document.querySelector('.chat');if(chat){chat.scrollTop=chat.scrollHeight;}
  var form=document.getElementById('open-form');if(form){form.scrollIntoView({block:'nearest'});}
  var reset=document.getElementById('reset');
  if(reset){reset.addEventListener('submit',function(e){if(!confirm(reset.dataset.confirm)){e.preventDefault();}});}
});
