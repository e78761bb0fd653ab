"""The phone systems this process serves, one line each, and what the composition root
picks from them: the callbacks' dialer (``IVR_CALLBACKS_VIA`` names a channel) and the
SMS sender (the first channel that offers one). A third phone system is one new folder
under ``ivr/phone/`` and one line in ``phone_channels``."""

from __future__ import annotations

from collections.abc import Sequence

from ivr.app.bootstrap import Components
from ivr.app.dispatcher import INTERVAL, Dispatcher
from ivr.errors import IvrError
from ivr.phone.asterisk.call_files import CallbackSettings
from ivr.phone.asterisk.channel import AsteriskChannel
from ivr.phone.asterisk.fastagi_limits import FastAgiLimits
from ivr.phone.channel import Channel, Dialer, SmsSender
from ivr.phone.twilio.channel import TwilioChannel
from ivr.phone.twilio.rest import twilio_for
from ivr.phone.twilio.settings import TwilioSettings
from ivr.services.outbox import OutboxSender, not_configured
from ivr.store.twilio_calls import TwilioCalls


def phone_channels(
    components: Components,
    fastagi: tuple[str, int] | None = None,
    limits: FastAgiLimits | None = None,
) -> list[Channel]:
    """Every phone system, one line each. ``fastagi``: where Asterisk's FastAGI server
    listens (None: not in this process); ``limits``: its (default: from the settings)."""
    twilio = TwilioSettings.of(components.settings)
    fastagi_caps = FastAgiLimits.from_settings(components.settings)
    return [
        AsteriskChannel(components, fastagi, CallbackSettings.from_env(), limits or fastagi_caps),
        TwilioChannel(components, twilio, twilio_calls(components), twilio_for(twilio)),
    ]


def twilio_calls(components: Components) -> TwilioCalls:
    """Where Twilio calls' state is kept: the hotline's database (its schema checked),
    writing under the process's SQLite writer lock like every unit of work."""
    components.sessions  # noqa: B018 - the schema matches this code, else SchemaOutOfDate
    timeout = components.settings.db_pool_timeout
    return TwilioCalls(components.database, components.writer_lock, timeout)


def callback_dialer(via: str, channels: Sequence[Channel]) -> Dialer:
    """The dialer of the channel ``IVR_CALLBACKS_VIA`` names (the channel refuses when it
    cannot dial: Twilio without an account)."""
    for channel in channels:
        if channel.name == via:
            dialer = channel.dialer()
            if dialer is None:
                raise IvrError(f"IVR_CALLBACKS_VIA={via}: {via} cannot dial callbacks")
            return dialer
    raise IvrError(f"IVR_CALLBACKS_VIA={via}: no such phone system")


def sms_sender(channels: Sequence[Channel]) -> SmsSender | None:
    """The first channel's SMS sender, or None when no phone system sends SMS."""
    return next((sms for sms in (c.sms() for c in channels) if sms is not None), None)


def dispatcher_for(
    components: Components, channels: Sequence[Channel] | None = None, interval: float = INTERVAL
) -> Dispatcher:
    """The dispatcher of this process: the callbacks' dialer and the SMS sender picked
    from ``channels`` (by default every phone system, none listening)."""
    channels = phone_channels(components) if channels is None else channels
    dialer = callback_dialer(components.settings.callbacks_via, channels)
    sms = sms_sender(channels)
    return Dispatcher(
        lambda: components.contact_center,
        dialer,
        CallbackSettings.from_env().ring_seconds,
        interval,
        outbox=OutboxSender(components.unit_of_work, components.clock, sms or not_configured),
        send_sms=sms is not None,
        records=components.record_upkeep(),
        recordings=components.recording_upkeep(),
    )
