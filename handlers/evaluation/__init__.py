"""Teachers' evaluation 家访工作考核 in the chat: `/evaluation` (`flow`), its buttons and charts."""
