"""Web push (Push API, VAPID): subscriptions per account and the push outbox."""
