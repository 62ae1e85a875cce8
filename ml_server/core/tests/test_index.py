"""`GET /`: the index a person sees at the API's address."""

from __future__ import annotations


def test_the_root_answers_a_json_index_with_links_that_work(client):
    response = client.get("/")

    assert response.status_code == 200
    index = response.json()
    assert index["name"] and index["version"]
    assert index["links"] == {"docs": "/docs", "schema": "/schema", "list": "/list"}
    for link in index["links"].values():
        assert client.get(link).status_code == 200, link
