"""Knowledge base ingestion, vector store, example-question index and the LangChain retriever."""
