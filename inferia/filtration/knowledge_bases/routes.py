"""``/management/knowledge-bases``: knowledge bases, their documents, and a search to
try retrieval (RBAC ``knowledge_bases:*``, audited)."""

from __future__ import annotations

from litestar import Controller, delete, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, MultipartBody

from inferia.filtration.access import Caller, requires
from inferia.filtration.audit import AuditContext
from inferia.filtration.caller_context import caller_context
from inferia.filtration.knowledge_bases.schemas import (
    DocumentRecord,
    DocumentUpload,
    KnowledgeBaseCreate,
    KnowledgeBaseRecord,
    SearchHit,
    SearchRequest,
)
from inferia.filtration.knowledge_bases.service import KnowledgeBaseService

# Multipart framing around the file itself.
_FORM_OVERHEAD = 64 * 1024


def knowledge_bases_controller(
    service: KnowledgeBaseService, max_upload_bytes: int
) -> type[Controller]:
    class KnowledgeBasesController(Controller):
        path = "/management/knowledge-bases"
        tags = ["knowledge bases"]
        dependencies = {"context": Provide(caller_context, sync_to_thread=False)}

        @get("/", guards=[requires("knowledge_bases:read")])
        async def list_knowledge_bases(
            self, caller: NamedDependency[Caller]
        ) -> dict[str, list[KnowledgeBaseRecord]]:
            return {"data": await service.list_for(caller.organization_id)}

        @get("/{base_id:str}", guards=[requires("knowledge_bases:read")])
        async def get_knowledge_base(
            self, caller: NamedDependency[Caller], base_id: FromPath[str]
        ) -> KnowledgeBaseRecord:
            return await service.get(caller.organization_id, base_id)

        @post("/", guards=[requires("knowledge_bases:write")], status_code=201)
        async def create_knowledge_base(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            data: JSONBody[KnowledgeBaseCreate],
        ) -> KnowledgeBaseRecord:
            return await service.create(context, caller.organization_id, data)

        @delete("/{base_id:str}", guards=[requires("knowledge_bases:write")], status_code=204)
        async def delete_knowledge_base(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            base_id: FromPath[str],
        ) -> None:
            await service.delete(context, caller.organization_id, base_id)

        @get("/{base_id:str}/documents", guards=[requires("knowledge_bases:read")])
        async def list_documents(
            self, caller: NamedDependency[Caller], base_id: FromPath[str]
        ) -> dict[str, list[DocumentRecord]]:
            return {"data": await service.documents(caller.organization_id, base_id)}

        @get(
            "/{base_id:str}/documents/{document_id:str}", guards=[requires("knowledge_bases:read")]
        )
        async def get_document(
            self,
            caller: NamedDependency[Caller],
            base_id: FromPath[str],
            document_id: FromPath[str],
        ) -> DocumentRecord:
            return await service.document(caller.organization_id, base_id, document_id)

        @post(
            "/{base_id:str}/documents",
            guards=[requires("knowledge_bases:write")],
            status_code=202,
            request_max_body_size=max_upload_bytes + _FORM_OVERHEAD,
        )
        async def upload_document(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            base_id: FromPath[str],
            data: MultipartBody[DocumentUpload],
        ) -> DocumentRecord:
            upload = data.file
            return await service.upload(
                context,
                caller.organization_id,
                base_id,
                filename=upload.filename or "",
                content_type=upload.content_type or "",
                content=await upload.read(),
                title=data.title,
            )

        @delete(
            "/{base_id:str}/documents/{document_id:str}",
            guards=[requires("knowledge_bases:write")],
            status_code=204,
        )
        async def delete_document(
            self,
            context: NamedDependency[AuditContext],
            caller: NamedDependency[Caller],
            base_id: FromPath[str],
            document_id: FromPath[str],
        ) -> None:
            await service.delete_document(context, caller.organization_id, base_id, document_id)

        @post("/{base_id:str}/search", guards=[requires("knowledge_bases:read")], status_code=200)
        async def search(
            self,
            caller: NamedDependency[Caller],
            base_id: FromPath[str],
            data: JSONBody[SearchRequest],
        ) -> dict[str, list[SearchHit]]:
            return {"data": await service.search(caller.organization_id, base_id, data)}

    return KnowledgeBasesController
