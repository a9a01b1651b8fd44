"""Chainlit entry point (`chainlit run ui/app.py`): decorators only, each delegating to ui.handlers."""

from __future__ import annotations

import chainlit as cl

from ui import auth, handlers

handlers.configure_chainlit()
handlers.warm_up()


@cl.data_layer
def data_layer():
    return handlers.make_data_layer()


if auth.auth_enabled():

    @cl.password_auth_callback
    async def login(username: str, password: str):
        return handlers.login(username, password)


@cl.on_chat_start
async def start():
    await handlers.on_start(await handlers.get_assistant(), handlers.ChainlitChat.current())


@cl.on_chat_resume
async def resume(thread):
    await handlers.get_assistant()  # the conversation memory is keyed by the thread id


@cl.on_message
async def message(msg: cl.Message):
    await handlers.on_message(await handlers.get_assistant(), handlers.ChainlitChat.current(),
                              msg.content or "", handlers.uploaded_files(msg))


@cl.action_callback(handlers.LOAD_SAMPLE)
async def load_sample(action: cl.Action):
    await action.remove()
    await handlers.load_sample(await handlers.get_assistant(), handlers.ChainlitChat.current())


@cl.action_callback(handlers.CORRECT_TEST)
async def correct_test(action: cl.Action):
    await handlers.correct_from_action(await handlers.get_assistant(), handlers.ChainlitChat.current(),
                                       action.payload)
