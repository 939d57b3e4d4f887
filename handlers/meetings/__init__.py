"""`/meeting` (家长会): planning parent meetings announced as notices with receipts, recording
who came and the minutes, closing and cancelling, and the parent committee 家长委员会."""
