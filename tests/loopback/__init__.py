"""The loopback phone: a third phone system that exists only for the tests, in one folder.

It proves that ``ivr.phone.channel.Channel`` and ``ivr.phone.line.Line`` are all a phone
system needs: the menus, the use cases, the queue, the hold, the callback dialogue and the
call records all come from ``ivr.phone`` (``call_loop``, ``holding``, ``callback_call``);
this folder only speaks its own protocol. It imports nothing of the hotline but
``ivr.phone``, ``ivr.flow`` and ``ivr.errors`` (and the ``Callback`` type the ``Dialer``
protocol names), as ``tests/integration/app/test_third_channel.py`` checks.

- ``protocol``: the text protocol, as pure functions (``docs/adding-a-channel.md``);
- ``line``: ``LoopbackLine``, the ``Line`` of one call over a socket;
- ``server``: ``LoopbackServer``, one call per connection, a thread each;
- ``channel``: ``LoopbackChannel``, the ``Channel`` (its server, dialer and SMS);
- ``settings``: its own settings (``IVR_LOOPBACK_HOST``, ``IVR_LOOPBACK_PORT``);
- ``phone``: the other end, a scripted caller the tests drive.
"""
