"""The delivery worker: every Sent becomes Delivered, once.

Publication answers as soon as `Sent` is recorded; making the letter available
in the mailbox is this separate step, so a slow mailbox never slows senders.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy.exc
from eventsourcing.persistence import IntegrityError, Notification
from eventsourcing.utils import get_topic
from sqlalchemy.orm import Session

from ebox.domain.errors import AlreadyDelivered
from ebox.domain.message import Message
from ebox.projections.follower import Follower


class DeliveryWorker(Follower):
    name = "delivery"
    topics = (get_topic(Message.Sent),)

    def handle(self, session: Session, notifications: Sequence[Notification]) -> None:
        """Deliver from the Sent event alone; fall back to full loads on a conflict.

        A message whose only event is Sent can be rebuilt from the notification
        itself, which saves one query per letter. If something else happened to
        a message first, the insert conflicts and the batch is redone the slow way.
        """
        try:
            with session.begin_nested():
                messages = []
                for notification in notifications:
                    # The chain is extended from the stored hash; recomputing it here would
                    # double the cost of delivery, and loads and the audit verify it anyway.
                    message = self.app.mapper.to_domain_event(notification).mutate(None)
                    message.deliver()
                    messages.append(message)
                self.app.save(*messages)
        except (IntegrityError, sqlalchemy.exc.IntegrityError):
            for notification in notifications:
                message = self.app.message(notification.originator_id)
                try:
                    message.deliver()
                except AlreadyDelivered:
                    continue
                self.app.save(message)
