"""Drives the Python client that openapi-python-client generated from botyard's OpenAPI document
against a running server (crates/botyard/tests/it/openapi.rs runs it).

Usage: client_check.py BASE_URL EMAIL PASSWORD, with the generated package `botyard_client` on
PYTHONPATH. Without credentials, signs up and signs in through the Bots.Business dialect; then,
with the API key of the sign-up as the Botpress dialect's bearer token, lists the workspaces,
creates a bot, reads it back and lists the bots. Every answer is parsed into the generated models
(a response that does not match its schema raises), and an undocumented status raises. Prints
one JSON line of what it saw.
"""

import json
import sys

from botyard_client import AuthenticatedClient, Client
from botyard_client.api.botpress_bots import botpress_create_bot, botpress_get_bot, botpress_list_bots
from botyard_client.api.botpress_workspaces import botpress_list_workspaces
from botyard_client.api.bots_business_account import bots_business_sign_in, bots_business_sign_up
from botyard_client.models import BotBody, BotEnvelope, BotList, Credentials, SignInAnswer, SignUpAnswer, WorkspaceList


def main(base_url: str, email: str, password: str) -> None:
    credentials = Credentials(email=email, password=password)
    with Client(base_url=base_url, raise_on_unexpected_status=True) as anonymous:
        signed_up = bots_business_sign_up.sync_detailed(client=anonymous, body=credentials)
        assert signed_up.status_code == 201, signed_up
        assert isinstance(signed_up.parsed, SignUpAnswer), signed_up.content
        signed_in = bots_business_sign_in.sync(client=anonymous, body=credentials)
        assert isinstance(signed_in, SignInAnswer), signed_in
    account = signed_up.parsed

    with AuthenticatedClient(base_url=base_url, token=account.api_key, raise_on_unexpected_status=True) as client:
        workspaces = botpress_list_workspaces.sync(client=client)
        assert isinstance(workspaces, WorkspaceList), workspaces
        workspace = account.workspace.id

        created = botpress_create_bot.sync(client=client, body=BotBody(name="from-python"), x_workspace_id=workspace)
        assert isinstance(created, BotEnvelope), created
        read = botpress_get_bot.sync(created.bot.id, client=client, x_workspace_id=workspace)
        assert isinstance(read, BotEnvelope), read
        listed = botpress_list_bots.sync(client=client, x_workspace_id=workspace)
        assert isinstance(listed, BotList), listed

    print(
        json.dumps(
            {
                "api_key": account.api_key,
                "workspace": workspace,
                "user_id": account.data.id,
                "signed_in": {"email": signed_in.data.email, "workspaces": [w.id for w in signed_in.data.workspaces]},
                "workspaces": [w.id for w in workspaces.workspaces],
                "bot": created.bot.id,
                "read": {"id": read.bot.id, "name": read.bot.name},
                "listed": [bot.name for bot in listed.bots],
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:])
