# ASSAS_SANITIZE applies to every target, so that the libraries and the tests agree on the runtime.
if(ASSAS_SANITIZE)
  add_compile_options(-fsanitize=${ASSAS_SANITIZE} -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${ASSAS_SANITIZE})
endif()
