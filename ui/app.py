"""Chainlit entry point (`chainlit run ui/app.py`): decorators only, each delegating to a ui module."""

from __future__ import annotations

import chainlit as cl

from ui import auth, conversation, corrections, server, uploads
from ui.chainlit_chat import ChainlitChat

server.configure_chainlit()
server.warm_up()


@cl.data_layer
def data_layer():
    return server.make_data_layer()


if auth.auth_enabled():

    @cl.password_auth_callback
    async def login(username: str, password: str):
        return server.login(username, password)


@cl.on_chat_start
async def start():
    await conversation.on_start(await server.get_assistant(), ChainlitChat.current())


@cl.on_chat_resume
async def resume(thread):
    # the conversation memory is keyed by the thread id; the picker is shown again
    await conversation.on_resume(await server.get_assistant(), ChainlitChat.current())


@cl.on_settings_update
async def settings_update(values: dict):
    await conversation.on_settings(await server.get_assistant(), ChainlitChat.current(), values)


@cl.on_message
async def message(msg: cl.Message):
    await conversation.on_message(await server.get_assistant(), ChainlitChat.current(),
                                  msg.content or "", server.uploaded_files(msg))


@cl.action_callback(uploads.LOAD_SAMPLE)
async def load_sample(action: cl.Action):
    await action.remove()
    await uploads.load_sample(await server.get_assistant(), ChainlitChat.current())


@cl.action_callback(corrections.CORRECT_TEST)
async def correct_test(action: cl.Action):
    await corrections.correct_from_action(await server.get_assistant(), ChainlitChat.current(), action.payload)
