from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tracking.models import Invitation, Membership, Project, Role, User

pytestmark = pytest.mark.django_db


def test_signup_creates_owner_organization_and_project(client):
    response = client.post(
        reverse("signup"),
        {
            "name": "Carol Doe",
            "email": "Carol@Example.com",
            "password": "a-long-enough-passphrase",
            "organization_name": "Carolco",
            "project_name": "Marketing site",
        },
    )
    project = Project.objects.get(name="Marketing site")
    assert response.status_code == 302
    assert response["Location"] == reverse("project_settings", args=[project.pk])
    user = User.objects.get(email="carol@example.com")
    assert Membership.objects.get(user=user).role == Role.OWNER
    assert project.organization.name == "Carolco"
    assert project.public_key.startswith("pk_")
    # logged in straight away
    assert client.get(reverse("project_settings", args=[project.pk])).status_code == 200


def test_signup_names_the_field_that_is_wrong(client, alice):
    response = client.post(
        reverse("signup"),
        {
            "name": "X",
            "email": "alice@acme.test",
            "password": "123",
            "organization_name": "",
            "project_name": "p",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Password:" in body and "too short" in body
    assert "Company or team: This field is required." in body
    assert User.objects.filter(email="alice@acme.test").count() == 1


def test_signup_refuses_an_existing_email(client, alice):
    response = client.post(
        reverse("signup"),
        {
            "name": "A",
            "email": "ALICE@acme.test",
            "password": "another-good-passphrase",
            "organization_name": "O",
            "project_name": "p",
        },
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert Project.objects.filter(name="p").count() == 0


def test_login_with_the_right_password_lands_on_the_project(client, alice, project, password):
    response = client.post(
        reverse("login"), {"username": "alice@acme.test", "password": password}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("overview", args=[project.pk])


def test_login_with_a_wrong_password_says_so(client, alice):
    response = client.post(reverse("login"), {"username": "alice@acme.test", "password": "nope"})
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_anonymous_visitors_are_sent_to_login(client, project):
    response = client.get(reverse("overview", args=[project.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_password_reset_sends_a_link_that_works(client, alice):
    response = client.post(reverse("password_reset"), {"email": "alice@acme.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = next(line for line in mail.outbox[0].body.splitlines() if "/password-reset/" in line).split(
        "testserver"
    )[1]
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "brand-new-passphrase-1", "new_password2": "brand-new-passphrase-1"},
    )
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password("brand-new-passphrase-1")


@pytest.fixture
def invite(alice_client, project, django_capture_on_commit_callbacks):
    def send(email="dan@acme.test", role="member") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            response = alice_client.post(
                reverse("members", args=[project.pk]), {"email": email, "role": role}
            )
        assert response.status_code == 200
        return response.context["invite_url"]

    return send


def test_an_invited_teammate_signs_up_and_joins(invite, project, client):
    url = invite()
    assert len(mail.outbox) == 1 and url in mail.outbox[0].body
    path = url.split("testserver")[1]
    response = client.post(path, {"name": "Dan", "password": "dans-secret-passphrase"})
    assert response.status_code == 302
    dan = User.objects.get(email="dan@acme.test")
    assert Membership.objects.get(user=dan, organization=project.organization).role == Role.MEMBER
    assert Invitation.objects.get(email="dan@acme.test").accepted_at is not None
    assert client.get(reverse("overview", args=[project.pk])).status_code == 200
    # the link cannot be used twice
    assert client.get(path).status_code == 410


def test_an_expired_invitation_is_refused_with_a_message(invite, client):
    url = invite()
    Invitation.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(url.split("testserver")[1], {"name": "Dan", "password": "dans-secret-passphrase"})
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not User.objects.filter(email="dan@acme.test").exists()


def test_an_unknown_invitation_token_is_404(client):
    assert client.get(reverse("invitation_accept", args=["nope"])).status_code == 404


def test_a_plain_member_cannot_invite(amos_client, project):
    response = amos_client.post(
        reverse("members", args=[project.pk]), {"email": "eve@x.test", "role": "owner"}
    )
    assert response.status_code == 302
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_names_the_problem(alice_client, project, amos):
    response = alice_client.post(
        reverse("members", args=[project.pk]), {"email": "amos@acme.test", "role": "member"}
    )
    assert response.status_code == 200
    assert "already a member" in response.content.decode()


def test_an_existing_user_accepts_while_logged_in(invite, project, bob, bob_client):
    url = invite(email="bob@bobco.test", role="admin")
    response = bob_client.post(url.split("testserver")[1])
    assert response.status_code == 302
    assert Membership.objects.get(user=bob, organization=project.organization).role == Role.ADMIN
